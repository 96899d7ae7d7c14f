import { Logger } from '@nestjs/common';

/** What Nest's Logger prints (errors and warnings) while `act` runs, as `level: message`. */
export async function logsOf(act: () => unknown): Promise<string[]> {
  const lines: string[] = [];
  const keep = (level: string) => (message: unknown) => lines.push(`${level}: ${String(message)}`);
  Logger.overrideLogger({ log: () => undefined, error: keep('error'), warn: keep('warn') });
  try {
    await act();
  } finally {
    Logger.overrideLogger(['error', 'warn']);
  }
  return lines;
}
