"""Authorization service: trust between localities, credentials for locality systems, audit."""
