"""What a document claims: drug-effect statements read from its sentences."""
