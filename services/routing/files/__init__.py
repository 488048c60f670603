"""Case files: the materials, supplements and result documents of a case, kept encrypted in object storage."""
