"""Pure core of taizhang's two-way sync: submission parsing, dedupe, merge, schedules, phone-side lists."""
