"""Sign-in: local accounts and API tokens, and Cognito (the hosted-UI client, the token
verifier and the code-flow sign-in)."""
