// Command hello is the size and INIT baseline: the smallest aws-lambda-go
// function, built with the same flags as every bootstrap.
package main

import (
	"context"

	"github.com/aws/aws-lambda-go/lambda"
)

func handle(context.Context, map[string]any) (string, error) { return "hello", nil }

func main() { lambda.Start(handle) }
