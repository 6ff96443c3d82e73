"""translation_status: owns translation groups and the per-language status of each group."""
