"""Tests of services/auth: accounts, the Cognito client, the token verifier."""
