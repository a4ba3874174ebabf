// Command unresolved is a fixture of the analysis: its handler comes out of
// a map, which the analysis cannot resolve to functions.
package main

import (
	"context"
	"os"

	"github.com/aws/aws-lambda-go/lambda"
)

var handlers = map[string]func(context.Context, struct{}) (struct{}, error){
	"a": func(context.Context, struct{}) (struct{}, error) { return struct{}{}, nil },
}

func main() {
	lambda.StartHandlerFunc(handlers[os.Getenv("H")])
}
