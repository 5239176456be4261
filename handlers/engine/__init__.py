"""The conversation engine: one respondent's input in, committed answers and channel-free replies out."""
