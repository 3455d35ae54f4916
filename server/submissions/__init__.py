"""Raw submissions: every accepted filled form, kept unchanged forever, with its attachments."""
