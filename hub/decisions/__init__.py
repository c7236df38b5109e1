"""Decisions about people: suspension proposals, the CSW's decisions, lifts and appeals."""
