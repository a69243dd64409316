"""SAM-module ID-card reader (GA 467 serial protocol); spec: shared/design/IDCARD.md."""
