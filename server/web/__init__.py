"""The supervisor's web pages: server-rendered HTML over the same use cases as the API.

An adapter like `server/<feature>/http`: each page parses a request, calls a use case and
renders a template; no business rule and no SQL here (import-linter holds it). Every page
works without JavaScript (forms: POST, then a 303 redirect); `static/` holds the CSS and
the small script that updates a count's progress while devices sync.
"""
