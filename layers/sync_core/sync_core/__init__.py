"""AppFrames cross-device sync: the domain (sessions, projects, errors) and its adapters."""
