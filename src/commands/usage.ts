// A command line that cannot be run as given (exit 2): shared by the command line and the command modules.
export class UsageError extends Error {}
