"""Published forms: every XForm version kept byte for byte, with its media files."""
