"""What staff edit, loaded and validated: questionnaires, events and the message catalog."""
