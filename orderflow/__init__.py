"""The orderflow project's own definitions: event routing and workflow documents (used by ``__main__.py``).

Unlike ``components/``, which is reusable in any estate, this package encodes the orderflow contracts
(``docs/contracts.md``) and is not meant to be copied elsewhere.
"""
