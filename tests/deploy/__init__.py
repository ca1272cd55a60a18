"""Tests of the AWS deployment: user-data, the instance set-up, the stack."""
