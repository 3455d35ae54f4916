"""Staff accounts on the web: signing in and out, sessions, password changes."""
