// Command authorizer is the API Gateway Lambda REQUEST authorizer; see
// package shared/authorizer.
package main

import (
	"log"

	"github.com/aws/aws-lambda-go/lambda"

	"github.com/guestaccess/guestaccess/shared/authorizer"
)

func main() {
	h, err := authorizer.NewFromEnv()
	if err != nil {
		log.Fatal(err)
	}
	lambda.StartHandlerFunc(h.Handle)
}
