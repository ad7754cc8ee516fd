"""The profile workbench: profiles saved with their history, readers' feedback turned into
precision and suggestions (monitor.web and monitor.cli are its faces)."""
