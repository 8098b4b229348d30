"""HTTP API (aiohttp): servlets parse and authorize, then call the services in assistant/."""
