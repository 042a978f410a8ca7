package rules

// All returns every rule, in report order. The list is explicit (no init
// registration) so that what runs is what this file says.
func All() []*Rule {
	return []*Rule{
		InstallScript,
		InstallDownload,
		InstallInlineCode,

		NetworkHook,
		WalletHook,
		CryptoAddressList,
		CryptoAddressRegex,
		AddressLookalike,
		ApprovalSelectors,
		ObfuscatedWalletStrings,

		ObfuscatorIO,
		EsotericEncoding,
		DynamicCode,
		DecodeExec,
		HiddenWhitespace,
		InjectedLongLine,
		ComputedRequire,
		ModuleFromString,

		ProcessExec,
		DetachedSpawn,
		ExecShellDownload,

		NetworkHost,
		ExfilEndpoint,
		DNSExfil,

		EnvSerialise,
		CredentialFiles,
		CloudMetadata,
		SecretScanner,

		NPMPublish,
		ManifestRewrite,
		GitHubAbuse,
		WorkflowWrite,
		SelfHostedRunner,

		UnexpectedBinary,
		InvisibleCode,
		HomoglyphIdentifier,
		ManifestConfusion,
	}
}

// ByID returns the rule with the id, or nil.
func ByID(id string) *Rule {
	for _, r := range All() {
		if r.ID == id {
			return r
		}
	}
	return nil
}
