package kvserver

// VersionID returns the version id the server gives the index-th configured
// version (0 = oldest) of secret name in vault. It is stable across runs, so
// tests and seeds can pin a reference to a seeded version.
func VersionID(vault, name string, index int) string { return versionID(vault, name, index) }
