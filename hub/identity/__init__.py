"""Identity resolution: identifiers first, then normalised names, birth date, municipality."""
