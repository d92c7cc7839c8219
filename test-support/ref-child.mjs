// For a child process a test starts to check ref()/unref() on open endpoints:
//   'unref'      unref() every endpoint and return: the process must exit by itself;
//   'ref-again'  unref() then ref() every one, and an unref'd timer closes them after a
//                while: the process must still be there when it fires (it prints "alive"),
//                then exits once they are closed.
// `endpoints` are closed in the order given.
export function exerciseRef(mode, endpoints) {
  for (const endpoint of endpoints) endpoint.unref();
  if (mode !== 'ref-again') return;
  for (const endpoint of endpoints) endpoint.ref();
  setTimeout(async () => {
    console.log('alive');
    for (const endpoint of endpoints) await endpoint.close();
  }, 300).unref();
}
