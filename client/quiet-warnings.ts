// Imported first by the CLI entry point. The AWS SDK warns on every start that its releases after
// January 2027 need Node 22; that is for maintainers (docs/known-issues.md), not for every user.
// This is the SDK's own documented switch; an explicit value in the environment still wins.
process.env.AWS_SDK_JS_NODE_VERSION_SUPPORT_WARNING_DISABLED ??= 'true';
