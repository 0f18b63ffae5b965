import SyncKit

/// Realistic, repeatable household values from a seeded generator: Chinese names, 11-digit
/// mobile numbers, grid cells like JS-0412, doorplate codes like FS-88A3-K.
///
///     var generator = HouseholdGenerator(seed: 7)
///     let household = generator.household()
///     let phone = generator.phone()
struct HouseholdGenerator: RandomNumberGenerator {
    private var random: SplitMix64

    init(seed: UInt64) { random = SplitMix64(seed: seed) }

    static let surnames = ["张", "王", "李", "刘", "陈", "杨", "黄", "赵", "周", "吴", "徐", "孙", "马", "朱", "胡", "郭", "何", "林", "高", "罗"]
    static let givenNames = ["伟", "芳", "娜", "秀英", "敏", "静", "丽", "强", "磊", "军", "洋", "勇", "艳", "杰", "娟", "涛", "明", "超", "秀兰", "霞", "平", "刚", "桂英", "建华", "志强"]
    static let statuses = ["待走访", "已走访", "空置", "拒访", "待复核"]
    static let tagPool = ["老人", "低保", "独居", "租户", "新生儿", "残疾", "外来人口", "党员"]
    static let notePool = ["白天无人，晚上七点后再访", "户主在外务工，由母亲代答", "门牌已更换，请核对", "", "新搬入，尚未登记户籍",
                           "联系电话为子女号码", "一楼商铺兼住宅", "房东代为填写"]
    static let cellPrefixes = ["JS", "GL", "XW", "QH", "DC"]
    static let mobilePrefixes = ["130", "131", "132", "133", "135", "136", "137", "138", "139", "150", "151", "152", "155", "157",
                                 "158", "159", "166", "176", "177", "180", "181", "186", "187", "188", "189", "199"]
    private static let codeAlphabet = Array("0123456789ABCDEFGHJKMNPQRSTVWXYZ")

    mutating func household() -> Household {
        Household(id: EntityID.random(using: &random), cell: cell(), doorplateCode: doorplateCode(), unitRoom: unitRoom(),
                  headName: name(), memberCount: Int64(below(6) + 1), phone: phone(), status: pick(Self.statuses),
                  visitCount: Int64(below(4)), lastVisitDate: date(), tags: tags(), notes: pick(Self.notePool))
    }

    /// An 11-digit mainland mobile number.
    mutating func phone() -> String {
        var digits = pick(Self.mobilePrefixes)
        for _ in 0..<8 { digits += String(below(10)) }
        return digits
    }

    mutating func name() -> String { pick(Self.surnames) + pick(Self.givenNames) }

    mutating func status() -> String { pick(Self.statuses) }

    mutating func tag() -> String { pick(Self.tagPool) }

    mutating func memberCount() -> Int64 { Int64(below(8) + 1) }

    mutating func next() -> UInt64 { random.next() }

    mutating func below(_ bound: Int) -> Int { Int(random.next() % UInt64(bound)) }

    mutating func pick<T>(_ items: [T]) -> T { items[below(items.count)] }

    private mutating func cell() -> String {
        let number = below(999) + 1
        return pick(Self.cellPrefixes) + "-" + String(repeating: "0", count: 4 - String(number).count) + String(number)
    }

    private mutating func doorplateCode() -> String {
        var code = "FS-"
        for _ in 0..<4 { code.append(pick(Self.codeAlphabet)) }
        code += "-"
        code.append(pick(Self.codeAlphabet))
        return code
    }

    private mutating func unitRoom() -> String {
        "\(below(30) + 1)栋\(below(4) + 1)单元\(below(18) + 1)0\(below(4) + 1)室"
    }

    private mutating func date() -> String {
        let month = below(12) + 1, day = below(28) + 1
        return "2024-" + (month < 10 ? "0" : "") + String(month) + "-" + (day < 10 ? "0" : "") + String(day)
    }

    private mutating func tags() -> [String] {
        var chosen = Set<String>()
        for _ in 0..<below(3) { chosen.insert(pick(Self.tagPool)) }
        return chosen.sorted { $0.utf8.lexicographicallyPrecedes($1.utf8) }
    }
}
