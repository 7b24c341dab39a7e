"""Playbooks through the agent: catalog, persistent queue, ansible-runner executor."""
