// Training progress: a bar with loss and ETA on a terminal (cli-progress), one line per epoch
// otherwise (logs, CI). Both go to stderr, so stdout stays for results.
import cliProgress from 'cli-progress';

export function progress({ epochs, tty = process.stderr.isTTY }) {
  const line = ({ epoch, loss, valLoss, seconds }) =>
    `epoch ${epoch}/${epochs}  loss ${loss.toFixed(5)}${valLoss === undefined ? '' : `  val_loss ${valLoss.toFixed(5)}`}  ${seconds.toFixed(1)} s`;
  if (!tty) {
    return { batch() {}, epoch: (logs) => process.stderr.write(`${line(logs)}\n`), stop() {} };
  }
  const bars = new cliProgress.MultiBar(
    {
      stream: process.stderr,
      format: 'epoch {epoch}/{epochs} [{bar}] {percentage}% | loss {loss} | ETA {eta_formatted}',
      hideCursor: true,
      etaBuffer: 50,
    },
    cliProgress.Presets.shades_classic,
  );
  let bar = null;
  return {
    batch({ epoch, batch, batches, loss }) {
      // the whole run is one bar of epochs × batches steps, so the ETA covers every epoch
      bar ??= bars.create(epochs * batches, 0, { epoch, epochs, loss: '-' });
      bar.update((epoch - 1) * batches + batch + 1, { epoch, loss: loss.toFixed(5) });
    },
    // a finished epoch's line goes above the bar
    epoch: (logs) => bars.log(`${line(logs)}\n`),
    stop: () => bars.stop(),
  };
}
