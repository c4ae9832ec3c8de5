"""Recipes that put other HTTP clients' requests through an htx_cancel limiter."""
