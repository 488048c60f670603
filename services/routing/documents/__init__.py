"""Documents the applicant takes home: the receipt notice (收件告知单) and the one-time notice (一次性告知书)."""
