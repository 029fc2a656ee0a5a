"""Cross-cutting plumbing that is no one's domain: the API base and error shape, authentication
(sessions through the user cache, JWT, the sign-in lockout), throttling, parsers, pagination, roles
and text helpers. It sits below every app and imports none of them."""
