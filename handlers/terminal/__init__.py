"""The terminal adapter (`wspolnota chat`): lines of text into Inbounds, Replies into numbered text."""
