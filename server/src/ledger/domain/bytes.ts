/** Byte helpers shared by the ledger's formats: the contract's, which the browser's verifier uses too. */
export {
  bytesEqual, concatBytes, decodeUtf8, fromBase64, fromHex, readUint64, toBase64, toHex, uint64, utf8,
} from '@gridshare/contract/proof/bytes';
