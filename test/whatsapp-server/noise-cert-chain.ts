/**
 * The Noise certificate chain WhatsApp's servers send every client in the handshake: a leaf
 * certificate signed by an intermediate that WhatsApp's root key signs. Baileys checks both
 * signatures against the root public key it ships with (`WA_CERT_DETAILS`), so a test server
 * cannot sign a chain of its own; it presents this captured one, which is public data (the same
 * bytes @openclaw/crabline's WhatsApp test server presents). Baileys does not compare the leaf's
 * key with the server's static key, nor check the validity dates.
 */
export const NOISE_CERT_CHAIN = Buffer.from(
  'CncKMwjjAhADGiCRKg7Kg1iu4CSulwLBaxX51Tefw6VXGgZqcr5OEbXIRiDQ04bOBijQjZ/TBhJA34Bj82jAHhLpCWBNVBlGnFDieamd8+138S57uMt9ke9mrn5r4+VepwBPKEgHjob6bR70rlCmWDkxZv+CfVjIAxJ2CjIIAxAAGiAcUamsMDmUxsjQuS6hh4pTNHZZnMWZ++o1mX2aqQzOYiCAka6+Bij/3rfcBhJAJw8pRkhTn+1IcOJQVN1OlZg6uikYnCumyO7acFVVX3U3QPXsGSq2TCbCbWrebSC593Su43EgprIDlfU8ZgWFBw==',
  'base64',
);
