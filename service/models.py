"""Service tickets raised against customers (issue 13): tickets, comments, attachments, service levels."""
