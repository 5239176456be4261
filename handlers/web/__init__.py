"""The web chat adapter: posted forms into Inbounds, Replies into what a page shows; kiosks and limits."""
