"""The OpenRosa channel ODK Collect talks to: formList, form and media download, manifest, submission."""
