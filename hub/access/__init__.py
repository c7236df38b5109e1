"""Who may call the hub: registered clients, their API keys and purpose scopes."""
