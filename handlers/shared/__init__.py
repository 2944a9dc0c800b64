"""Library shared by every orderflow Lambda function: models, catalogue, errors, AWS helpers.

Deliberately empty: each handler imports only the submodules it needs, which keeps cold starts short.
"""
