"""HTTP layer of the central service: app factory, request helpers, routes per resource."""
