// Command cors-preflight is CorsPreflightFunction: it answers the browsers'
// CORS preflight (OPTIONS) on every path of the API, without the
// authorizer, from the AllowedOrigins parameter (ALLOWED_ORIGINS). It
// imports no AWS client: nothing but the policy runs on this path.
package main

import (
	"log"
	"os"

	"github.com/aws/aws-lambda-go/lambda"

	"github.com/guestaccess/guestaccess/shared/httpapi"
	"github.com/guestaccess/guestaccess/shared/platform/applog"
	"github.com/guestaccess/guestaccess/shared/platform/cors"
)

func main() {
	p, err := cors.Parse(os.Getenv("ALLOWED_ORIGINS"))
	if err != nil {
		log.Fatalf("ALLOWED_ORIGINS: %v", err)
	}
	lambda.StartHandlerFunc(httpapi.Preflight(p, applog.New()))
}
