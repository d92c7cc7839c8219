export function exerciseRef(mode: string, endpoints: readonly { ref(): unknown; unref(): unknown; close(): Promise<void> }[]): void;
