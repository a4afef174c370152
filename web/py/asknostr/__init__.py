"""AskNostr Social Swarm: the PWA's Python package."""
