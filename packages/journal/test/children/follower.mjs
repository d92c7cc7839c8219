// A process whose only pending work is a journal follower's wait: it must stay alive until
// the record it waits for comes (the futex wait holds no reference on the event loop).
// argv: directory. Prints the first record appended after it started, and exits.
import '@flux/uring';
import { Journal } from '../../dist/index.js';

const journal = Journal.open(process.argv[2], { readOnly: true });
for await (const record of journal.records({ from: 'end', follow: true })) {
  console.log(Buffer.from(record.payload).toString());
  break;
}
journal.close();
