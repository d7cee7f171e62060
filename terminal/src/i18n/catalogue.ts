/**
 * Every string the kiosk shows, in English and Welsh. Plain English (and plain, friendly
 * Welsh): short sentences, "you", no jargon. Placeholders are `{name}`; numbers are put
 * where the sentence needs no plural (Welsh takes the singular noun after a numeral:
 * "3 awr", "30 munud").
 *
 * Add a key to EN and TypeScript demands it in CY. The unit test checks that every Welsh
 * string differs from its English source, except the short list in SAME_IN_BOTH.
 */
export const EN = {
  'app.name': 'Clubcard',
  'app.title': 'Clubcard kiosk',
  'status.starting': 'Starting…',
  'status.online': 'Online',
  'status.offline': 'Offline',
  'status.backlog': 'Visits waiting to send: {count}',
  'status.offline-saved': 'Offline. Visits saved here: {count}',
  'status.sending': 'Sending visits: {done} of {total}',
  'reader.unavailable': 'The card reader is not working. Please ask a member of staff.',

  'settings.label': 'Screen settings',
  'settings.language': 'Cymraeg',
  'settings.language-name': 'Switch to Welsh',
  'settings.large-text': 'Larger text',
  'settings.sound': 'Sounds',
  'settings.speech': 'Read aloud',

  'idle.title': 'Tap your card',
  'idle.hint': 'Hold your Clubcard flat on the reader below the screen.',
  'idle.gp-title': 'GP drop-in check-in',
  'idle.gp-hint':
    'Tap your card to get your number. You can check in at any GP drop-in, not only your own practice.',

  'result.welcome-name': 'Welcome, {name}',
  'result.welcome': 'Welcome',
  'result.recorded': 'We have recorded your visit: {service} at {venue}.',
  'result.earned': 'You earned {amount} {wallet}.',
  'result.balances': 'Your balances',
  'result.pending': '(being confirmed)',
  'result.vouchers': 'Your vouchers',
  'result.spend-here': 'You can spend here on:',
  'result.offer': 'Just for you',
  'result.spend': 'Spend credits',
  'result.done': 'Done',
  'result.more-time': 'I need more time',
  'result.timeout-warning': 'This screen will go back to the start in {seconds} seconds.',
  'result.staying': 'This screen will stay until you press Done.',

  'gp.title': 'You are checked in',
  'gp.number': 'Your number is',
  'gp.seat': 'Please take a seat. We will call your number.',
  'gp.privacy': 'We only record that you visited. Nothing about your health is kept on this kiosk.',

  'wallet.leisure-credit': 'leisure credit',
  'wallet.learning-points': 'learning points',
  'wallet.living-credit': 'living credits',
  'wallet.time-credit': 'time credits',
  'wallet.voucher': 'vouchers: {name}',
  'wallet.title.leisure-credit': 'Leisure credit',
  'wallet.title.learning-points': 'Learning points',
  'wallet.title.living-credit': 'Living credits',
  'wallet.title.time-credit': 'Time credits',
  'wallet.title.voucher': 'Vouchers: {name}',
  'unit.hours': '{hours} h',
  'unit.hours-minutes': '{hours} h {minutes} min',
  'unit.minutes': '{minutes} min',

  'spend.title': 'What would you like?',
  'spend.option': '{label}: {price}',
  'spend.needs-staff': 'A member of staff will need to approve this.',
  'spend.confirm-title': 'Spend {price} on {label}?',
  'spend.confirm-yes': 'Yes, spend it',
  'spend.back': 'No, go back',
  'spend.approval-title': 'Waiting for a member of staff',
  'spend.approval-detail': 'Please show this screen to a member of staff so they can approve it.',
  'spend.cancel': 'Cancel',
  'spend.done-title': 'All done',
  'spend.done-detail': 'You spent {price} on {label}.',
  'spend.none': 'There is nothing you can spend here at the moment.',
  'spend.unavailable': 'Not available now',

  'refusal.title': 'Sorry',
  'refusal.card-not-registered': 'This card is not registered.',
  'refusal.card-not-registered.help': 'Please ask a member of staff. They can register it for you.',
  'refusal.card-blocked': 'This card has been blocked.',
  'refusal.card-blocked.help':
    'If you reported it lost, please use your new card, or ask a member of staff.',
  'refusal.card-not-genuine': 'We could not check this card.',
  'refusal.card-not-genuine.help':
    'Please tap your own Clubcard again. If this keeps happening, ask a member of staff.',
  'refusal.uid-only-not-allowed': 'This kind of card cannot be used here.',
  'refusal.uid-only-not-allowed.help': 'Please ask a member of staff about a new Clubcard.',
  'refusal.nothing-to-spend': 'There is nothing left to spend.',
  'refusal.nothing-to-spend.help':
    'You do not have enough credit for this yet. Keep visiting to earn more.',
  'refusal.offline-allowance-exceeded': 'You cannot spend any more here just now.',
  'refusal.offline-allowance-exceeded.help':
    'This kiosk is offline and you have used what you can spend until it reconnects. Please try again later.',
  'refusal.reader-error': 'The card could not be read.',
  'refusal.reader-error.help': 'Please hold your card flat on the reader and try again.',
  'refusal.storage': 'This kiosk cannot record visits right now.',
  'refusal.storage.help': 'Please ask a member of staff.',
  'refusal.approval-required': 'A member of staff must approve this.',
  'refusal.other': 'Something went wrong.',
  'refusal.other.help': 'Please try again, or ask a member of staff.',

  'staff.enter': 'Staff sign-in',
  'staff.pin-title': 'Enter your PIN',
  'staff.pin-hello': 'Hello {name}. Enter your PIN.',
  'staff.pin-label': 'PIN',
  'staff.pin-submit': 'Sign in',
  'staff.clear': 'Clear',
  'staff.cancel': 'Cancel',
  'staff.pin-wrong': 'That PIN was not right. Tries left: {count}',
  'staff.locked': 'This staff card is locked after too many wrong PINs. Try again later.',
  'staff.tap-card': 'Tap your staff card on the reader.',
  'staff.title': 'Staff mode',
  'staff.signed-in': 'Signed in: {name}',
  'staff.sign-out': 'Sign out',
  'staff.warning': 'You will be signed out soon.',
  'staff.stay': 'Stay signed in',
  'staff.approvals': 'Waiting for approval',
  'staff.approve': 'Approve',
  'staff.no-approvals': 'Nothing is waiting for approval.',
  'staff.sync': 'Sync',
  'staff.sync-now': 'Sync now',
  'staff.last-sync': 'Last synced: {time}',
  'staff.never-synced': 'Not synced yet',
  'staff.rejected': 'Rejected events',
  'staff.show-rejected': 'Show rejected events',
  'staff.no-rejected': 'No events were rejected.',
  'staff.rejected-row': 'Event {seq} ({type}): {code}',
  'staff.enrolment-only': 'Issuing cards happens only at an enrolment desk.',

  'demo.title': 'Demo: simulated cards',
  'demo.tap': 'Tap: {label}',
} as const satisfies Record<string, string>;

export type MessageKey = keyof typeof EN;

export const CY: Record<MessageKey, string> = {
  'app.name': 'Clubcard',
  'app.title': 'Ciosg Clubcard',
  'status.starting': 'Yn dechrau…',
  'status.online': 'Ar-lein',
  'status.offline': 'All-lein',
  'status.backlog': 'Ymweliadau yn aros i’w hanfon: {count}',
  'status.offline-saved': 'All-lein. Ymweliadau wedi’u cadw yma: {count}',
  'status.sending': 'Yn anfon ymweliadau: {done} o {total}',
  'reader.unavailable': 'Dydy’r darllenydd cardiau ddim yn gweithio. Gofynnwch i aelod o staff.',

  'settings.label': 'Gosodiadau’r sgrin',
  'settings.language': 'English',
  'settings.language-name': 'Newid i’r Saesneg',
  'settings.large-text': 'Testun mwy',
  'settings.sound': 'Synau',
  'settings.speech': 'Darllen yn uchel',

  'idle.title': 'Tapiwch eich cerdyn',
  'idle.hint': 'Daliwch eich Clubcard yn fflat ar y darllenydd o dan y sgrin.',
  'idle.gp-title': 'Cofrestru ar gyfer sesiwn galw heibio’r meddyg teulu',
  'idle.gp-hint':
    'Tapiwch eich cerdyn i gael eich rhif. Gallwch gofrestru mewn unrhyw sesiwn galw heibio, nid dim ond yn eich meddygfa eich hun.',

  'result.welcome-name': 'Croeso, {name}',
  'result.welcome': 'Croeso',
  'result.recorded': 'Rydyn ni wedi cofnodi eich ymweliad: {service} yn {venue}.',
  'result.earned': 'Rydych chi wedi ennill {amount} {wallet}.',
  'result.balances': 'Eich balansau',
  'result.pending': '(wrthi’n cael ei gadarnhau)',
  'result.vouchers': 'Eich talebau',
  'result.spend-here': 'Gallwch wario yma ar:',
  'result.offer': 'Yn arbennig i chi',
  'result.spend': 'Gwario credydau',
  'result.done': 'Gorffen',
  'result.more-time': 'Mae angen mwy o amser arna i',
  'result.timeout-warning': 'Bydd y sgrin hon yn mynd yn ôl i’r dechrau mewn {seconds} eiliad.',
  'result.staying': 'Bydd y sgrin hon yn aros nes i chi bwyso Gorffen.',

  'gp.title': 'Rydych chi wedi cofrestru',
  'gp.number': 'Eich rhif yw',
  'gp.seat': 'Cymerwch sedd, os gwelwch yn dda. Byddwn ni’n galw eich rhif.',
  'gp.privacy':
    'Dim ond eich ymweliad rydyn ni’n ei gofnodi. Does dim byd am eich iechyd yn cael ei gadw ar y ciosg hwn.',

  'wallet.leisure-credit': 'credyd hamdden',
  'wallet.learning-points': 'pwyntiau dysgu',
  'wallet.living-credit': 'credydau byw',
  'wallet.time-credit': 'credydau amser',
  'wallet.voucher': 'talebau: {name}',
  'wallet.title.leisure-credit': 'Credyd hamdden',
  'wallet.title.learning-points': 'Pwyntiau dysgu',
  'wallet.title.living-credit': 'Credydau byw',
  'wallet.title.time-credit': 'Credydau amser',
  'wallet.title.voucher': 'Talebau: {name}',
  'unit.hours': '{hours} awr',
  'unit.hours-minutes': '{hours} awr {minutes} munud',
  'unit.minutes': '{minutes} munud',

  'spend.title': 'Beth hoffech chi?',
  'spend.option': '{label}: {price}',
  'spend.needs-staff': 'Bydd angen i aelod o staff gymeradwyo hyn.',
  'spend.confirm-title': 'Gwario {price} ar {label}?',
  'spend.confirm-yes': 'Ie, gwario',
  'spend.back': 'Na, yn ôl',
  'spend.approval-title': 'Yn aros am aelod o staff',
  'spend.approval-detail':
    'Dangoswch y sgrin hon i aelod o staff, os gwelwch yn dda, er mwyn iddyn nhw ei chymeradwyo.',
  'spend.cancel': 'Canslo',
  'spend.done-title': 'Dyna ni',
  'spend.done-detail': 'Rydych chi wedi gwario {price} ar {label}.',
  'spend.none': 'Does dim byd y gallwch ei wario yma ar hyn o bryd.',
  'spend.unavailable': 'Ddim ar gael nawr',

  'refusal.title': 'Mae’n ddrwg gennym',
  'refusal.card-not-registered': 'Dydy’r cerdyn hwn ddim wedi’i gofrestru.',
  'refusal.card-not-registered.help':
    'Gofynnwch i aelod o staff, os gwelwch yn dda. Gallan nhw ei gofrestru i chi.',
  'refusal.card-blocked': 'Mae’r cerdyn hwn wedi’i rwystro.',
  'refusal.card-blocked.help':
    'Os gwnaethoch chi ddweud ei fod ar goll, defnyddiwch eich cerdyn newydd, neu gofynnwch i aelod o staff.',
  'refusal.card-not-genuine': 'Doedd dim modd i ni wirio’r cerdyn hwn.',
  'refusal.card-not-genuine.help':
    'Tapiwch eich Clubcard eich hun eto. Os yw hyn yn dal i ddigwydd, gofynnwch i aelod o staff.',
  'refusal.uid-only-not-allowed': 'Does dim modd defnyddio’r math hwn o gerdyn yma.',
  'refusal.uid-only-not-allowed.help': 'Gofynnwch i aelod o staff am Clubcard newydd.',
  'refusal.nothing-to-spend': 'Does dim byd ar ôl i’w wario.',
  'refusal.nothing-to-spend.help':
    'Does dim digon o gredyd gyda chi ar gyfer hyn eto. Daliwch ati i ymweld er mwyn ennill mwy.',
  'refusal.offline-allowance-exceeded': 'Allwch chi ddim gwario rhagor yma ar hyn o bryd.',
  'refusal.offline-allowance-exceeded.help':
    'Mae’r ciosg hwn all-lein, ac rydych chi wedi gwario’r cyfan sy’n bosib nes iddo ailgysylltu. Rhowch gynnig arall arni nes ymlaen.',
  'refusal.reader-error': 'Doedd dim modd darllen y cerdyn.',
  'refusal.reader-error.help':
    'Daliwch eich cerdyn yn fflat ar y darllenydd a rhowch gynnig arall arni.',
  'refusal.storage': 'Dydy’r ciosg hwn ddim yn gallu cofnodi ymweliadau ar hyn o bryd.',
  'refusal.storage.help': 'Gofynnwch i aelod o staff, os gwelwch yn dda.',
  'refusal.approval-required': 'Rhaid i aelod o staff gymeradwyo hyn.',
  'refusal.other': 'Aeth rhywbeth o’i le.',
  'refusal.other.help': 'Rhowch gynnig arall arni, neu gofynnwch i aelod o staff.',

  'staff.enter': 'Mewngofnodi staff',
  'staff.pin-title': 'Rhowch eich PIN',
  'staff.pin-hello': 'Helo {name}. Rhowch eich PIN.',
  'staff.pin-label': 'Rhif PIN',
  'staff.pin-submit': 'Mewngofnodi',
  'staff.clear': 'Clirio',
  'staff.cancel': 'Canslo',
  'staff.pin-wrong': 'Doedd y PIN ddim yn gywir. Cynigion ar ôl: {count}',
  'staff.locked':
    'Mae’r cerdyn staff hwn wedi’i gloi ar ôl gormod o rifau PIN anghywir. Rhowch gynnig arall arni nes ymlaen.',
  'staff.tap-card': 'Tapiwch eich cerdyn staff ar y darllenydd.',
  'staff.title': 'Modd staff',
  'staff.signed-in': 'Wedi mewngofnodi: {name}',
  'staff.sign-out': 'Allgofnodi',
  'staff.warning': 'Byddwch chi’n cael eich allgofnodi cyn bo hir.',
  'staff.stay': 'Aros wedi mewngofnodi',
  'staff.approvals': 'Yn aros am gymeradwyaeth',
  'staff.approve': 'Cymeradwyo',
  'staff.no-approvals': 'Does dim byd yn aros am gymeradwyaeth.',
  'staff.sync': 'Cysoni',
  'staff.sync-now': 'Cysoni nawr',
  'staff.last-sync': 'Cysonwyd ddiwethaf: {time}',
  'staff.never-synced': 'Heb gysoni eto',
  'staff.rejected': 'Digwyddiadau a wrthodwyd',
  'staff.show-rejected': 'Dangos digwyddiadau a wrthodwyd',
  'staff.no-rejected': 'Chafodd dim digwyddiadau eu gwrthod.',
  'staff.rejected-row': 'Digwyddiad {seq} ({type}): {code}',
  'staff.enrolment-only': 'Dim ond wrth ddesg gofrestru y mae cardiau’n cael eu rhoi.',

  'demo.title': 'Demo: cardiau efelychiedig',
  'demo.tap': 'Tapio: {label}',
};

/**
 * Strings that are the same in both languages on purpose: names, and the option label
 * pattern that only places council-supplied data. Keep this list short.
 */
export const SAME_IN_BOTH: ReadonlySet<MessageKey> = new Set<MessageKey>([
  'app.name',
  'spend.option',
]);
