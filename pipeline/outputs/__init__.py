"""What a run leaves behind: CSV tables, the HTML report and the run history."""
