"""The My digits tab: the student's own labelled drawings and fine-tuning."""
