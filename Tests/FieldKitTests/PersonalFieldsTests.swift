import Testing
import SyncKit
@testable import FieldKit

/// Which fields hold personal data is part of the schema (Step 10): what an erasure will remove,
/// and what the console marks. The list is the design's (Design.md section 11), pinned here.
struct PersonalFieldsTests {
    @Test func theFieldModelDeclaresWhichFieldsArePersonal() throws {
        let personal = Dictionary(uniqueKeysWithValues: FieldModel.collections.map { collection in
            (collection.name, Set(collection.fields.filter(\.personal).map(\.name)))
        })
        #expect(personal[FieldModel.households] == ["head_name", "head_name_key", "member_count", "phone", "notes"])
        #expect(personal[FieldModel.tasks] == ["notes"])
        #expect(personal[FieldModel.doorplates] == [])
        #expect(personal[FieldModel.reviewItems] == [])
        // Declared with the field, defaulting to not personal.
        #expect(FieldSchema.text("phone", personal: true).personal && !FieldSchema.text("cell").personal)
    }
}
