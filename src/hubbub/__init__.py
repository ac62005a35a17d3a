"""hubbub: a chat server for netcat, telnet and IRC clients, on one asyncio event loop."""

__version__ = "0.1.0"
