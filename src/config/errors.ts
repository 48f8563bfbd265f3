/** A configuration problem, named by the field path a user can find in their file (`clusters[1].connection.server`). */
export class ConfigError extends Error {
  readonly field: string;
  constructor(field: string, problem: string) {
    super(field ? `${field}: ${problem}` : problem);
    this.name = 'ConfigError';
    this.field = field;
  }
}
