"""The village register: households and people derived from visits, with history, events and conflicts."""
