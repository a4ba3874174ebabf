"""LocalStack plugins that let localstack-core run this stack on a host without Docker.

- ``dynamodb:moto`` (PROVIDER_OVERRIDE_DYNAMODB=moto): every DynamoDB operation is
  served by LocalStack's bundled moto, instead of DynamoDB Local (a Java download
  under a vendor licence that this project does not use).
- ``host`` (LAMBDA_RUNTIME_EXECUTOR=host): Lambda functions are prepared without
  Docker images or LocalStack's lambda-runtime-init download.
"""
